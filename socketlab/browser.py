"""The headless browser the suite opens the capture pages in: Chromium from the distribution's own
packages (installed with apt-get by make test when it runs as root and it is missing; elsewhere the
page's test is skipped with that reason)."""
import os
import shutil
import subprocess

NAMES = ('chromium', 'chromium-browser', 'google-chrome')


def find():
    return next((path for path in map(shutil.which, NAMES) if path), None)


def ensure():
    """The browser's path, installed first if it can be; None if it cannot."""
    if find() or os.geteuid() != 0 or not shutil.which('apt-get'):
        return find()
    print('Installing chromium with apt-get (once: the suite opens the capture pages in it)', flush=True)
    env = {**os.environ, 'DEBIAN_FRONTEND': 'noninteractive'}
    done = subprocess.run(['sh', '-c', 'apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium'],
                          env=env, capture_output=True, text=True)
    if done.returncode:
        print('apt-get could not install chromium (the capture page test will be skipped): {}'.format(
            (done.stderr.strip().splitlines() or ['no output'])[-1]), flush=True)
    return find()


def dump_dom(browser, url):
    """The page's document once its scripts ran, as headless Chromium serialises it."""
    done = subprocess.run([browser, '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
                           '--no-first-run', '--dump-dom', url], capture_output=True, text=True, timeout=60)
    if done.returncode:
        raise RuntimeError('chromium failed: {}'.format(done.stderr.strip()[-500:]))
    return done.stdout

