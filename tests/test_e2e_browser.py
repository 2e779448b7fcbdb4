"""The model card in a real headless Chromium (Debian's chromium and chromium-driver, driven by Selenium)
against the rendered service: load the page, try a good and a bad example, keep screenshots.

A missing browser stops the suite at once rather than skipping the test (conftest.py), so CI proves the page
works in one. The screenshots' paths are listed at the end of pytest's output."""

from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.wait import WebDriverWait

from .conftest import CHROMEDRIVER, CHROMIUM, TEMPLATE
from .matrix import PROJECT_NAMES

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.needs("chromium", "chromium-driver")]

ARTIFACTS = TEMPLATE / "test-artifacts"
SETOSA = {"sepal_length": "5.1", "sepal_width": "3.5", "petal_length": "1.4", "petal_width": "0.2"}
VIRGINICA = {"sepal_length": "6.7", "sepal_width": "3.0", "petal_length": "5.2", "petal_width": "2.3"}


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium through the system's chromedriver, named explicitly so Selenium Manager downloads nothing."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1024,1400"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


def submit(browser, values: dict[str, str]) -> None:
    """Type each value into its field, as a visitor would, press Predict, and wait for the answer's page."""
    for name, value in values.items():
        field = browser.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)
    page = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 10).until(staleness_of(page))


def screenshot(browser, record_property, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    assert browser.save_screenshot(str(path))
    record_property("artifact", str(path))  # listed at the end of the run (conftest.py)
    return path


def test_a_visitor_tries_the_model_in_a_real_browser(server, browser, record_property):
    browser.get(f"http://127.0.0.1:{server.port}/")
    assert browser.title == PROJECT_NAMES["tabular"]  # the project's name, not the model's slug
    assert browser.find_element(By.TAG_NAME, "h1").text == "iris-classifier-service version 0.1.0"
    # The stylesheet loaded and applied despite the strict Content-Security-Policy.
    assert browser.find_element(By.TAG_NAME, "body").value_of_css_property("max-width") == "768px"

    submit(browser, SETOSA)
    assert browser.find_element(By.ID, "prediction").text == "setosa"
    submit(browser, VIRGINICA)
    assert browser.find_element(By.ID, "prediction").text == "virginica"
    history = browser.find_elements(By.CSS_SELECTOR, "#history tbody tr")
    predictions = [row.find_elements(By.TAG_NAME, "td")[4].text for row in history]
    assert [prediction.split()[0] for prediction in predictions] == ["virginica", "setosa"]
    screenshot(browser, record_property, "model-card-prediction")

    submit(browser, {"sepal_width": "abc"})
    assert [flash.text for flash in browser.find_elements(By.CSS_SELECTOR, ".flash.error")] == [
        "sepal_width: must be a number, not a string"
    ]
    assert browser.find_elements(By.ID, "prediction") == []
    assert browser.find_element(By.NAME, "sepal_width").get_attribute("value") == "abc"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#history tbody tr")) == 2
    screenshot(browser, record_property, "model-card-error")

    # The console says nothing was blocked by the Content-Security-Policy or failed to load: it notes only the
    # 422 and the favicon, which the service does not have. (The reason phrase's case is the server's choice.)
    messages = [entry["message"] for entry in browser.get_log("browser") if "/favicon.ico " not in entry["message"]]
    assert [message.lower() for message in messages] == [
        f"http://127.0.0.1:{server.port}/ - failed to load resource: the server responded with a status of 422 "
        "(unprocessable entity)"
    ]
