"""The pages in a real browser: headless Chromium (Debian's package) driven by selenium.

Each page is opened from disk (file://), as a scientist opens it: it must load
with no script error, ask for nothing outside its folder, draw one point per
micrograph, and list as misclassified exactly the out-of-fold errors.

Skipped where Chromium, its driver or selenium is missing, unless
``CNNTEXTURE_REQUIRE_BROWSER=1`` (``.ci/run`` sets it): then a missing browser
fails the run instead of passing it quietly.
"""

import json
import os
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pandas as pd
import pytest
from _pages import fit_study, make_data, write_labelled_predictions

from sklearn_cnntexture import VGGLayerTransformer
from sklearn_cnntexture.report import write_study

pytestmark = pytest.mark.browser

REQUIRED = os.environ.get("CNNTEXTURE_REQUIRE_BROWSER") == "1"


def _missing():
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        return "no chromium (apt-get install chromium chromium-driver)"
    if not shutil.which("chromedriver"):
        return "no chromedriver (apt-get install chromium-driver)"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _missing()
    if reason:
        if REQUIRED:
            pytest.fail(f"CNNTEXTURE_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1300,1000"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    # The OS's driver, named: selenium's own manager would try to download one.
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    yield driver
    driver.quit()


def open_page(driver, path):
    """Load ``path`` from disk; fail on a script error or a request leaving its folder."""
    path = Path(path).resolve()
    driver.get_log("browser"), driver.get_log("performance")  # forget earlier pages
    driver.get(path.as_uri())
    folder = path.parent
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] != "Network.requestWillBeSent":
            continue
        url = message["params"]["request"]["url"]
        parsed = urlparse(url)
        if parsed.scheme in ("data", "blob", "about"):
            continue
        assert parsed.scheme == "file", f"{path.name} asked for {url}"
        target = Path(unquote(parsed.path))
        assert target.is_relative_to(folder), f"{path.name} asked for {url}, outside its folder"
        assert target.exists(), f"{path.name} asked for {url}, which is not there"
    # After the requests: a request that failed leaving the folder is named as such.
    errors = [entry["message"] for entry in driver.get_log("browser")
              if entry["level"] == "SEVERE"]
    assert not errors, errors
    # Every link and image of the page is a file of its folder (what a click would open).
    for href in driver.execute_script(
            "return Array.from(document.querySelectorAll('[src],[href]'))"
            ".map(e => e.getAttribute('src') || e.getAttribute('href'))"):
        if href.startswith("#"):
            continue
        assert "://" not in href and not href.startswith("//"), href
        assert (folder / unquote(href)).exists(), f"{href} is not beside {path.name}"


@pytest.fixture(scope="module")
def study_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    data = make_data(root / "data")
    vgg = VGGLayerTransformer(weights=None, random_state=0, cache=str(root / "cache"))
    study = fit_study(data, vgg)
    write_study(study, root / "study", data=data, name="stripes")
    return root / "study", study


_POINTS = """
var gd = document.getElementById("map-plot");
return gd.calcdata.filter(function (cd) {
  return cd[0].trace.visible === true && cd[0].trace.meta !== "misclassified";
}).reduce(function (n, cd) { return n + cd.length; }, 0);
"""


def broken_images(driver):
    """The sources of the page's images that did not load (naturalWidth 0), lazy ones too."""
    driver.execute_script("document.querySelectorAll('img').forEach(i => i.loading = 'eager')")
    return driver.execute_script(
        "return Array.from(document.images).filter(i => i.complete && !i.naturalWidth)"
        ".map(i => i.src)")


def test_study_page_in_a_browser(browser, study_folder):
    folder, study = study_folder
    open_page(browser, folder / "index.html")
    oof = pd.read_csv(folder / "out_of_fold.csv")
    wrong = np.flatnonzero(oof["true"] != oof["predicted"])
    # the misclassified list, as the browser shows it, is the out-of-fold errors
    listed = browser.execute_script(
        "return Array.from(document.querySelectorAll('#misclassified tbody tr'))"
        ".map(r => [+r.dataset.index, r.cells[1].textContent, r.cells[2].textContent,"
        " r.cells[3].textContent])")
    assert sorted(i for i, *_ in listed) == list(wrong)
    for i, name, true, predicted in listed:
        assert oof["image"][i].endswith(name)
        assert (true, predicted) == (oof["true"][i], oof["predicted"][i])
    # one point per micrograph under every colouring of the menu, the errors ringed
    n = len(oof)
    assert browser.execute_script(_POINTS) == n
    drawn = browser.execute_script(
        "return document.querySelectorAll('#map-plot .scatterlayer .point').length")
    assert drawn == n + len(wrong)
    buttons = browser.execute_script(
        "return document.getElementById('map-plot').layout.updatemenus[0].buttons.length")
    assert buttons == 5  # class, prediction, group, anneal_temperature, cool_method
    for k in range(buttons):
        browser.execute_script(
            "var gd = document.getElementById('map-plot');"
            f"Plotly.restyle(gd, gd.layout.updatemenus[0].buttons[{k}].args[0]);")
        assert browser.execute_script(_POINTS) == n
    # a click shows the micrograph's thumbnail and file
    browser.execute_script("document.getElementById('map-plot')"
                           f".emit('plotly_click', {{points: [{{customdata: {wrong[0]}}}]}})")
    panel = browser.execute_script("return document.getElementById('map-plot-panel').innerHTML")
    assert f'src="thumbs/{wrong[0]:06d}.jpg"' in panel and "misclassified" in panel
    # sorting the results table by a header click keeps its rows
    browser.execute_script("document.querySelector('#misclassified th:nth-child(7)').click()")
    folds = browser.execute_script(
        "return Array.from(document.querySelectorAll('#misclassified tbody tr'))"
        ".map(r => +r.cells[6].textContent)")
    assert folds == sorted(folds) and len(folds) == len(wrong)


@pytest.mark.parametrize("body, message", [
    ('<img src="https://example.org/x.png">', "asked for https://example.org/x.png"),
    ('<a href="missing.csv">x</a>', "missing.csv is not beside"),
    ("<script>undefinedFunction();</script>", "undefinedFunction"),
])
def test_the_checks_catch_a_bad_page(browser, tmp_path, body, message):
    # The checker itself: a request leaving the folder, a dead link, a script error.
    (tmp_path / "index.html").write_text(f"<!DOCTYPE html><html><body>{body}</body></html>")
    with pytest.raises(AssertionError, match=message):
        open_page(browser, tmp_path / "index.html")


@pytest.fixture(scope="module")
def predictions(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser-predict")
    vgg = VGGLayerTransformer(weights=None, random_state=0, cache=str(root / "cache"))
    out, _ = write_labelled_predictions(root, vgg)
    return out


def test_prediction_page_in_a_browser(browser, predictions):
    from sklearn_cnntexture.report import prediction_page_paths

    page_path, _ = prediction_page_paths(predictions)
    open_page(browser, page_path)
    table = pd.read_csv(predictions)
    shown = browser.execute_script(
        "return Array.from(document.querySelectorAll('#predictions tbody tr'))"
        ".map(r => [r.cells[1].textContent, r.cells[3].textContent])")
    assert [(Path(p).name, c) for p, c in zip(table["path"], table["predicted"])] == [
        (Path(p).name, c) for p, c in shown]
    assert not broken_images(browser)  # every thumbnail and heat map loaded
    assert browser.execute_script("return !!document.getElementById('seen')")


def test_explanation_page_in_a_browser(browser, tmp_path):
    from sklearn_cnntexture.explain import explain_model
    from sklearn_cnntexture.report import write_explanations

    data = make_data(tmp_path / "data", n_per_class=3)
    vgg = VGGLayerTransformer(["block1_conv2"], weights=None, random_state=0)
    e = explain_model(list(data.filenames), data.target, vgg=vgg, top_k=3, per_layer=2,
                      size=24, steps=3, n_estimators=10, verbose=False)
    write_explanations(e, tmp_path / "explained")
    open_page(browser, tmp_path / "explained" / "index.html")
    assert not broken_images(browser)
    names = browser.execute_script(
        "return Array.from(document.querySelectorAll('#important tbody tr'))"
        ".map(r => r.cells[2].textContent)")
    top = pd.read_csv(tmp_path / "explained" / "important_textures.csv")
    assert names == list(top["texture"])


def test_property_page_in_a_browser(browser, tmp_path):
    """The page of a numeric property's textures: loads whole, its table is the CSV's."""
    from sklearn_cnntexture.explain import explain_property
    from sklearn_cnntexture.report import write_property_explanation

    data = make_data(tmp_path / "data", n_per_class=4)
    y = np.linspace(700.0, 1100.0, len(data.filenames))
    vgg = VGGLayerTransformer(["block1_conv2"], weights=None, random_state=0)
    e = explain_property(list(data.filenames), y, vgg=vgg, n_textures=1, n_splits=3,
                         n_quantiles=2, size=24, steps=2, target_name="anneal_temperature")
    write_property_explanation(e, tmp_path / "explained")
    open_page(browser, tmp_path / "explained" / "index.html")
    assert not broken_images(browser)
    shown = browser.execute_script(
        "return Array.from(document.querySelectorAll('#correlations tbody tr'))"
        ".map(r => r.cells[1].textContent)")
    ranked = pd.read_csv(tmp_path / "explained" / "property_correlations.csv")["texture"]
    assert 0 < len(shown) <= len(ranked) and shown == list(ranked[: len(shown)])
