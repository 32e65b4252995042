"""make bench's figures, host-side: a bulk run whose echo stopped is run again and said so; each figure
comes with its spread over the rounds."""
from socketlab.measure import bench

STOPPED = {'bulk_MBps': None, 'bulk_sent': 100, 'bulk_echoed': 40, 'bulk_exact': False, 'bulk_stalled': True}
COMPLETE = {'bulk_MBps': 5.0, 'bulk_sent': 100, 'bulk_echoed': 100, 'bulk_exact': True, 'bulk_stalled': False}


class Loads:
    """A bench whose bulk loads answer as given, in turn."""

    def __init__(self, *answers):
        self.answers, self.asked = list(answers), []

    def load(self, name, rtt, connections, size):
        self.asked.append((name, rtt, connections, size))
        return dict(self.answers.pop(0))


def test_a_stopped_bulk_echo_is_run_again_and_counted():
    loads = Loads(COMPLETE)
    run = bench.retried(loads, 'socat', {'rtt_p50_us': 30.0, **STOPPED}, 100)
    assert run == {'rtt_p50_us': 30.0, **COMPLETE, 'bulk_stops': 1}
    assert loads.asked == [('socat', 0, 0, 100)]  # the bulk part alone


def test_one_that_keeps_stopping_is_tried_at_most_twice_more_and_stays_stopped():
    loads = Loads(STOPPED, STOPPED)
    run = bench.retried(loads, 'ncat', dict(STOPPED), 100)
    assert (run['bulk_stalled'], run['bulk_stops'], len(loads.asked)) == (True, 3, bench.BULK_RETRIES)


def test_a_run_that_completed_is_not_run_again():
    loads = Loads()
    assert bench.retried(loads, 'lesson', dict(COMPLETE), 100) == {**COMPLETE, 'bulk_stops': 0}


def test_the_report_gives_each_figure_its_spread_and_says_what_stopped():
    row = {'rtt_p50_us': 37.0, 'rtt_p99_us': 150.0, 'conn_per_s': 1500.0, 'bulk_MBps': 12.4,
           'ratio_to_socat': dict.fromkeys(bench.FIGURES, 1.0),
           'spread': {'rtt_p50_us': [30.0, 45.0], 'rtt_p99_us': [120.0, 180.0], 'conn_per_s': [1400.0, 1600.0],
                      'bulk_MBps': [11.0, 13.5]},
           'bulk_stalled': 0, 'bulk_stops': 1}
    lines = bench.report_servers({'socat': row}, {'socat': [{}, {}, {}]}).splitlines()
    assert lines[2].split() == ['socat', '37', '(1.00x)', '150', '(1.00x)', '1500', '(1.00x)', '12.4', '(1.00x)']
    assert lines[3].split() == ['30-45', '120-180', '1400-1600', '11.0-13.5']
    assert lines[4].strip() == 'bulk: the echo stopped 1 time in 3 runs; each run again until it completed'
