"""Browser test of the workshop path (issue 16): JupyterLab, started by ``make lab``, opens chapters 03,
04 and 05 in Debian's headless chromium with the kernel "Python (kundenwert)"; no notebook is marked
modified on open, and "Run All" (Run menu) ends without an error cell within :data:`RUN_ALL_S`
(the lab cache, filled by ``make lab``, makes each chapter take seconds, not minutes).

Full-page screenshots after "Run All" (top, walk-through, exercises) are saved to ``SHOTS_DIR``
(``KUNDENWERT_LAB_SHOTS``, default ``/tmp/lab-shots``) for a human to look at.

The server runs on 127.0.0.1, a free port and a random token, ``--no-browser`` (``make lab`` adds
``--allow-root`` as root), on a *copy* of ``notebooks/`` so saving and autosave never touch the
tracked files; all Jupyter state (runtime, settings, workspaces) lives in ``tmp_path``. Every wait
has a hard limit; the server, its kernels and the browser are always ended (by process id).

Needs ``/usr/bin/chromium`` and ``/usr/bin/chromedriver`` (Debian packages ``chromium`` and
``chromium-driver``, installed by ``.ci/run``) and ``selenium`` plus ``jupyterlab`` (dev extra).
Selenium Manager is never used (the driver path is given, ``SE_OFFLINE=true``): nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from helpers.config import PROJECT_ROOT

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
NOTEBOOKS = ("03-rfm-segmentierung.ipynb", "04-kaufprognose-kundenwert.ipynb", "05-abwanderung.ipynb")
KERNEL_DISPLAY = "Python (kundenwert)"
SERVER_START_S = 180
"""``make lab`` fills the lab cache (about 10 s) before JupyterLab starts."""
PAGE_READY_S = 120
RUN_ALL_S = 120
"""Per chapter; with the cache every cell takes about a second."""
SHUTDOWN_S = 20
SHOTS_DIR = Path(os.environ.get("KUNDENWERT_LAB_SHOTS", "/tmp/lab-shots"))
SHOT_MARKERS = {"top": None, "ergebnis": ("Ergebnis im Überblick", "Das Wichtigste"), "rundgang": ("selbst",),
                "uebung": ("Übung",)}
"""Screenshot name -> the first Markdown heading containing one of these texts is scrolled to the top
(``None``: the top of the notebook)."""


def _missing() -> str | None:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        return "chromium/chromium-driver fehlen (apt-get install -y chromium chromium-driver, siehe .ci/run)"
    for mod in ("selenium", "jupyterlab"):
        try:
            __import__(mod)
        except ImportError:
            return f"Python-Paket {mod} fehlt (pip install -e '.[dev]')"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 5.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except Exception:
        return 0


def _pids_mentioning(marker: str) -> list[int]:
    """Processes whose command line contains ``marker`` (our unique temporary directory)."""
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and int(d.name) != os.getpid():
            try:
                if marker in (d / "cmdline").read_bytes().decode(errors="replace"):
                    pids.append(int(d.name))
            except OSError:
                pass
    return pids


class Lab:
    """``make lab`` in its own process group, serving a copy of the notebooks."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.nb_dir = root / "notebooks"
        shutil.copytree(PROJECT_ROOT / "notebooks", self.nb_dir,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", ".kundenwert-cache"))
        (root / "data").symlink_to(PROJECT_ROOT / "data")  # notebooks read ../data/sample/...
        self.port = _free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        for var, sub in (("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                         ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"), ("JUPYTER_CONFIG_DIR", "config")):
            env[var] = str(root / sub)
        # every cell in the DOM (no virtual scrolling), so the page shows the state of all cells
        tracker = root / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
        tracker.parent.mkdir(parents=True)
        tracker.write_text(json.dumps({"windowingMode": "none"}))
        news = root / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        news.parent.mkdir(parents=True)
        news.write_text(json.dumps({"fetchNews": "false"}))  # no "Jupyter news?" popup over the screenshots
        lab_args = (f"--no-browser --ip=127.0.0.1 --port={self.port} "
                    f"--ServerApp.port_retries=0 --IdentityProvider.token={self.token}")
        self.log = (root / "lab.log").open("w")
        # -o: never reinstall the venv from inside a test (make test has just done that if needed)
        self.proc = subprocess.Popen(["make", "-s", "-o", ".venv/.installed", "lab", f"LAB_DIR={self.nb_dir}",
                                      f"LAB_ARGS={lab_args}"],
                                     cwd=PROJECT_ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + SERVER_START_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if _get(f"{self.url}/api/status?token={self.token}") == 200:
                return
            time.sleep(0.5)
        raise AssertionError(f"JupyterLab startet nicht: {self.log_text()[-3000:]}")

    def log_text(self) -> str:
        self.log.flush()
        return (self.root / "lab.log").read_text(errors="replace")

    def stop(self) -> None:
        try:  # clean shutdown: the server ends its kernels
            req = urllib.request.Request(f"{self.url}/api/shutdown", method="POST",
                                         headers={"Authorization": f"token {self.token}"})
            urllib.request.urlopen(req, timeout=5).close()
        except Exception:
            pass
        try:
            self.proc.wait(timeout=SHUTDOWN_S)
        except subprocess.TimeoutExpired:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(self.proc.pid, sig)
                    self.proc.wait(timeout=10)
                    break
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    pass
        for pid in _pids_mentioning(str(self.root)):  # kernels run in their own session
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()


def _browser(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not download a browser or driver
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1000", f"--user-data-dir={profile}", "--no-first-run",
                "--disable-extensions", "--lang=de-DE"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=opts)
    driver.set_page_load_timeout(PAGE_READY_S)
    driver.set_script_timeout(30)
    return driver


def _click_menu(driver, wait, menu: str, command: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    item = wait.until(EC.element_to_be_clickable(
        (By.XPATH, f"//ul[contains(@class,'lm-MenuBar-content')]/li[contains(@class,'lm-MenuBar-item')][normalize-space()='{menu}']")))
    item.click()
    wait.until(EC.element_to_be_clickable(
        (By.CSS_SELECTOR, f".lm-Menu-item[data-command='{command}']"))).click()


def _code_prompts(driver) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell "
        ".jp-InputArea-prompt')).map(e => e.textContent.trim());")


def _run_all_finished(driver) -> bool:
    """Nothing queued or running ("[*]:"), and every code cell numbered ("[12]:") or an error shown."""
    prompts = _code_prompts(driver)
    if not prompts or any("*" in p for p in prompts):
        return False
    if all(p[1:-2].strip().isdigit() for p in prompts):
        return True
    return bool(driver.find_elements("css selector", ".jp-OutputArea-output[data-mime-type="
                                                     "'application/vnd.jupyter.stderr']"))


def _screenshots(driver, stem: str) -> list[Path]:
    """Full-page screenshots of the open notebook: the notebook panel is resized to its content height
    (no inner scrolling), then captured at the headings of :data:`SHOT_MARKERS`."""
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    saved = []
    driver.set_window_size(1400, 2600)  # more of the notebook per picture
    for name, marker in SHOT_MARKERS.items():
        found = driver.execute_script("""
            const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer');
            if (!panel) return false;
            const marker = arguments[0];
            if (marker === null) { panel.scrollTop = 0; return true; }
            const h = Array.from(panel.querySelectorAll('.jp-MarkdownOutput h2, .jp-RenderedHTMLCommon h2'))
                .find(e => marker.some(m => e.textContent.includes(m)));
            if (!h) return false;
            panel.scrollTop += h.getBoundingClientRect().top - panel.getBoundingClientRect().top - 10;
            return true;""", marker)
        if not found:
            continue
        time.sleep(0.5)
        path = SHOTS_DIR / f"{stem}-{name}.png"
        driver.save_screenshot(str(path))
        saved.append(path)
    driver.set_window_size(1400, 1000)
    return saved


def _open_and_run_all(driver, wait, lab: "Lab", notebook: str) -> float:
    """Open ``notebook``, check kernel and clean state, Run All, save; returns the Run-All seconds."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{lab.url}/lab/tree/{notebook}?reset&token={lab.token}")
    # kernel "Python (kundenwert)" in the notebook toolbar, started and idle
    kernel_name = (By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-NotebookPanel-toolbar "
                                    "[data-jp-item-name='kernelName']")
    wait.until(EC.text_to_be_present_in_element(kernel_name, KERNEL_DISPLAY))
    idle = (By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-NotebookPanel-toolbar "
                             ".jp-Notebook-ExecutionIndicator[data-status='idle']")
    wait.until(EC.presence_of_element_located(idle))
    assert driver.find_element(*kernel_name).text.strip() == KERNEL_DISPLAY
    time.sleep(1)  # kernel info (language_info) has arrived and been written into the model
    # not marked modified on open (kernel info, trust, metadata normalisation change nothing)
    assert not driver.find_elements(By.CSS_SELECTOR, ".lm-TabBar-tab.jp-mod-dirty"), \
        f"{notebook} ist direkt nach dem Öffnen als geändert markiert."

    start = time.monotonic()
    _click_menu(driver, wait, "Run", "runmenu:run-all")
    try:
        WebDriverWait(driver, RUN_ALL_S, poll_frequency=1).until(_run_all_finished)
    except Exception:
        prompts = _code_prompts(driver)
        _screenshots(driver, Path(notebook).stem + "-timeout")
        raise AssertionError(f"{notebook}: „Run All“ nicht nach {RUN_ALL_S} s fertig; Zellen: {prompts}") from None
    wait.until(EC.presence_of_element_located(idle))
    seconds = time.monotonic() - start

    # save the copy and read what JupyterLab ran: all code cells executed, no error output
    _click_menu(driver, wait, "File", "docmanager:save")
    WebDriverWait(driver, 60).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, ".lm-TabBar-tab.jp-mod-dirty"))
    nb = nbformat.read(lab.nb_dir / notebook, as_version=4)
    errors = [(i, o.get("ename"), o.get("evalue")) for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{notebook}: Fehlerzellen nach „Run All“: {errors}"
    not_run = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.execution_count is None]
    assert not not_run, f"{notebook}: nicht ausgeführte Codezellen: {not_run}"
    assert nb.metadata.kernelspec.name == "kundenwert"
    _screenshots(driver, Path(notebook).stem)
    return seconds


def test_run_all_in_jupyterlab(tmp_path):
    reason = _missing()
    if reason:
        pytest.skip(f"Browser-Test übersprungen: {reason}")
    from selenium.webdriver.support.ui import WebDriverWait

    lab = Lab(tmp_path)
    driver = None
    try:
        lab.wait_ready()
        driver = _browser(tmp_path / "chromium-profile")
        wait = WebDriverWait(driver, PAGE_READY_S)
        times = {nb: _open_and_run_all(driver, wait, lab, nb) for nb in NOTEBOOKS}
        print("Run All:", ", ".join(f"{nb} {s:.0f} s" for nb, s in times.items()))
    finally:
        if driver is not None:
            try:
                driver.quit()
            except Exception:
                pass
        lab.stop()
