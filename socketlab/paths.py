"""Where things are: the project, the lab's state under .lab/, the results folder."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / 'compose.yaml'
PUBLISH_FILE = ROOT / 'compose.publish.yaml'
CATALOGUE = ROOT / 'tests' / 'exchanges.yaml'
STATE = ROOT / '.lab'


def state_dir(project):
    """The folder of one lab's state (what impairs it, which server file it runs); removed by make down."""
    return STATE / project
