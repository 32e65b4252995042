"""The lab a command acts on, as one value: its checked settings (socketlab.settings: project, images,
ports, stage, ...) and the compose that runs it (socketlab.compose). __main__ makes it once per
command; every function that acts on a lab takes it first and passes it on whole."""
import dataclasses


@dataclasses.dataclass(frozen=True)
class Target:
    settings: object   # socketlab.settings.Settings, already checked
    compose: object    # socketlab.compose.Compose

    @property
    def project(self):
        return self.settings.project

    def with_settings(self, **changes):
        """The same lab with some settings changed (make capture's capture=True, a loss-table stage)."""
        return dataclasses.replace(self, settings=dataclasses.replace(self.settings, **changes))
