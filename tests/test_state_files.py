"""The lab's own files (its state under .lab/, results) are written whole or not at all, also when two
writers write one file at once (two threads of make impair did: one found the other's temporary file
gone and the command failed with a traceback)."""
from concurrent.futures import ThreadPoolExecutor

from socketlab.paths import write_atomic


def test_writers_of_one_file_at_once_all_succeed_and_leave_one_whole_file(tmp_path):
    path = tmp_path / 'state' / 'impair.json'
    texts = ['{"writer": %d}' % n + ' ' * 4096 for n in range(16)]
    with ThreadPoolExecutor(8) as pool:
        for _ in range(20):
            list(pool.map(lambda text: write_atomic(path, text), texts))
    assert path.read_text() in texts
    assert [p.name for p in path.parent.iterdir()] == ['impair.json']


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / 'stage'
    write_atomic(path, 'threads\n')
    try:
        write_atomic(path, object())
    except TypeError:
        pass
    assert path.read_text() == 'threads\n' and [p.name for p in tmp_path.iterdir()] == ['stage']
