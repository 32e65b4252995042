"""make grade: a class's folder, one sub-folder per learner, each judged as make check judges one
(socketlab.check), in a run of its own, a bounded number at once; a learner x stage table.

    make grade SUBMISSIONS=DIR [ONLY=stage,stage] [POINTS=FILE] [AT_ONCE=2]

Learners' code is untrusted: it runs only inside the catalogue's containers, as hardened as the lab's
(non-root, read-only, no capabilities, memory, process and CPU limits, logs bounded), each learner's
on networks of its own, each step bounded in time, what a terminal shows bounded in size. A folder
whose name is not plain, or that holds neither program, gets 0 and the reason.
Results: RESULTS/grade-TIME-ID/grades.csv, grades.html, and each learner's check files in LEARNER/.
"""
import csv
import html
import io
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import check
from .paths import ROOT, result_path, write_atomic
from .errors import SettingError

LEARNER = re.compile(r'[A-Za-z0-9][A-Za-z0-9._-]{0,63}')  # a learner's folder name, as it may become a path


def class_folder(text):
    if not text:
        raise SettingError('make grade: give SUBMISSIONS=DIR, a folder with one folder per learner')
    if any(ord(c) < 32 for c in text):
        raise SettingError('bad SUBMISSIONS {!r}: no control characters'.format(text))
    folder = Path(text).expanduser().resolve()
    if not folder.is_dir():
        raise SettingError('bad SUBMISSIONS {!r}: give a folder with one folder per learner'.format(text))
    return folder


def grade_one(target, folder, checks, asked, table, catalogue, parent):
    """(learner, rows or None, reason): one learner, in a run of its own, swept whatever happened."""
    from . import sweep
    name = folder.name
    if not LEARNER.fullmatch(name):
        return name, None, 'the folder name is not plain (letters, digits, . _ -): not graded'
    try:
        files = check.submission(str(folder))
    except SettingError as error:
        return name, None, str(error)
    if not any(files.values()):
        return name, None, 'no ClientPython.py, ServerPython.py or ServerC.c in the folder'
    run = '{}-{}'.format(parent, uuid.uuid4().hex[:8])
    try:
        return name, check.judge(target, files, checks, asked, table, catalogue, run, shown=None), ''
    finally:
        sweep.sweep(run)


def csv_table(stages, graded):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(['learner', *stages, 'score', 'of', 'reason'])
    for name, rows, reason in graded:
        by_stage = {row.stage: row for row in rows or []}
        cells = [(str(by_stage[s].score) if by_stage[s].played else '') if s in by_stage else '' for s in stages]
        got, most = check.score(rows or [])
        writer.writerow([name, *cells, got, most, reason])
    return out.getvalue()


STYLE = ('<!doctype html><meta charset="utf-8"><title>socket-lab grades</title><style>body{{font-family:sans-serif}}'
         'td,th{{border:1px solid #999;padding:4px 8px}}.pass{{background:#cfc}}.fail{{background:#fcc}}.none{{color:#999}}'
         'table{{border-collapse:collapse}}</style>')


def html_table(stages, graded):
    head = ''.join('<th>{}</th>'.format(html.escape(s)) for s in stages)
    body = []
    for name, rows, reason in graded:
        by_stage = {row.stage: row for row in rows or []}
        cells = []
        for stage in stages:
            row = by_stage.get(stage)
            if row is None or not row.played:
                cells.append('<td class="none" title="{}">-</td>'.format(html.escape(row.why if row else '')))
            else:
                cells.append('<td class="{}" title="{}">{}/{}</td>'.format('pass' if row.passed else 'fail',
                                                                         html.escape(row.why), row.score, row.points))
        got, most = check.score(rows or [])
        body.append('<tr><th>{}</th>{}<td>{} of {}</td><td>{}</td></tr>'.format(
            html.escape(name), ''.join(cells), got, most, html.escape(reason)))
    return (STYLE + '<h1>socket-lab grades</h1><p>Hover a cell for the line that says why.</p>'
            '<table><tr><th>learner</th>{}<th>score</th><th>reason</th></tr>{}</table>\n').format(head, ''.join(body))


def main(target):
    settings = target.settings
    from . import images, sweep
    from .catalogue import load_catalogue
    started = time.monotonic()  # the class's whole time, said on the last line (measured, never asserted)
    folder = class_folder(settings.submissions)
    checks = check.load_checks()
    table, asked, workers = check.points(settings.points, checks), check.only(settings.only, checks), settings.at_once
    images.ensure(settings)
    catalogue = load_catalogue()
    learners = sorted(path for path in folder.iterdir() if path.is_dir() and not path.is_symlink())
    parent = sweep.child_run('grade')
    out = result_path(settings.results, 'grade')
    graded = []
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(grade_one, target, path, checks, asked, table, catalogue, parent)
                       for path in learners]
            for future in futures:
                name, rows, reason = future.result()
                graded.append((name, rows, reason))
                got, most = check.score(rows or [])
                print('{:<24} {} of {}{}'.format(name, got, most, ': ' + reason if reason else ''), flush=True)
                if rows is not None and LEARNER.fullmatch(name):
                    check.write_results(out / name, rows)
    finally:
        sweep.sweep(parent)
    write_atomic(out / 'grades.csv', csv_table(asked, graded))
    write_atomic(out / 'grades.html', html_table(asked, graded))
    print('{} learners graded in {:.0f} s. Results in {}: grades.csv, grades.html, and each learner\'s junit.xml, '
          'results.json, summary.md'.format(len(graded), time.monotonic() - started, out.relative_to(ROOT)))
    return 0
