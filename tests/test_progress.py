"""Progress of the grid search and the nested estimate: a bar, or a handful of lines."""

from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.tree import DecisionTreeClassifier

from sklearn_cnntexture.study import fit_progress
from sklearn_cnntexture.study._nested import nested_study


def _search(n_jobs):
    return GridSearchCV(DecisionTreeClassifier(random_state=0),
                        {"max_depth": list(range(1, 21))}, cv=StratifiedKFold(10),
                        n_jobs=n_jobs, scoring="f1_macro")


def test_one_process_shows_a_bar_over_every_fit(capsys):
    X, y = make_classification(60, random_state=0)
    search = _search(None)
    with fit_progress(search):
        search.fit(X, y)
    err = capsys.readouterr().err
    assert "200/200" in err and "fits (candidates x folds)" in err
    assert search.scoring == "f1_macro"  # restored


def test_workers_report_in_a_handful_of_lines_not_one_per_fit(capsys):
    """Issue 18: study --n-jobs 2 printed one [CV] line per fit (about 1,500)."""
    X, y = make_classification(60, random_state=0)
    search = _search(2)
    with fit_progress(search):
        search.fit(X, y)
    out, err = capsys.readouterr()
    lines = (out + err).strip().splitlines()
    assert "200 fits on 2 workers" in lines[0]
    assert 2 <= len(lines) <= 12, lines
    assert not any("[CV]" in line for line in lines)


def test_the_nested_estimate_shows_each_outer_fold(capsys, monkeypatch):
    """Issue 18: study --nested ran its outer folds for minutes with nothing shown."""
    import sklearn_cnntexture.study._nested

    # The winner's name is the study table's (layer, encoder, model); a tree has none.
    monkeypatch.setattr(sklearn_cnntexture.study._nested, "describe_params",
                        lambda search, params: str(params))
    X, y = make_classification(60, random_state=0)
    search = GridSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 3]},
                          cv=3, scoring="f1_macro")
    nested_study(search, list(X), y, n_splits=3, verbose=True)
    out, err = capsys.readouterr()
    for k in (1, 2, 3):
        assert f"nested CV, outer fold {k}/3" in err  # the bar while it runs
        assert f"nested CV, outer fold {k}/3: winner" in out  # the line when done
