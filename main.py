#!/usr/bin/env python
"""Synthesize every lgtm-ecs stack in one process (`make synth` or `npx cdktf synth`).

The environment comes from cdktf context `environment` (cdktf.json's "context", read
here too when `python main.py` runs without the cdktf CLI) or $LGTM_ENVIRONMENT;
default prod. Both set and different, or a name outside `config.names.ENVIRONMENTS`,
stops synth.

A bad setting stops synth with one message and exit 2, never a traceback: the config
problems (`ConfigError`) one per line, anything else raised while loading the config
as one line naming it.
"""

from __future__ import annotations

import sys

from cdktf import App

EXIT_CONFIG = 2


def load_app_config(app: App) -> object:
    """The config of the selected environment (imports inside: a broken config module is reported too)."""
    from config.common import load_config, project_context_environment, selected_environment
    from config.names import ENVIRONMENT_CONTEXT_KEY

    context = app.node.try_get_context(ENVIRONMENT_CONTEXT_KEY)
    if context is None:
        context = project_context_environment()
    return load_config(selected_environment(context))


def main() -> int:
    app = App()
    try:
        config = load_app_config(app)
    except Exception as error:  # noqa: BLE001 - every config failure becomes one message
        from config.validation import ConfigError

        if isinstance(error, ConfigError):
            print(f"synth stopped: {error}", file=sys.stderr)
        else:
            print(f"synth stopped: the config could not be loaded: {type(error).__name__}: {error}",
                  file=sys.stderr)
        return EXIT_CONFIG
    from components.registry import build_stacks
    from components.shared.state_blocks import StateBlockError

    try:
        build_stacks(app, config)  # type: ignore[arg-type]
    except StateBlockError as error:  # a broken adoption file: named, never a traceback
        print(f"synth stopped: {error}", file=sys.stderr)
        return EXIT_CONFIG
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
