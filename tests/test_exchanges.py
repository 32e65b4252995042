"""Every exchange of tests/exchanges.yaml, played on a fresh bridge network with the lab's images."""
import pytest

from socketlab import exchanges

CATALOGUE = exchanges.load_catalogue()


@pytest.mark.docker
@pytest.mark.parametrize('name', list(CATALOGUE))
def test_exchange(name, lab):
    exchange = CATALOGUE[name]
    exchanges.play(exchange, lab)
    for key, (actual, expected) in exchanges.transcripts(exchange, lab).items():
        assert actual == expected, '{} printed other lines than the lesson'.format(key)
