#!/usr/bin/env python
"""Synthesize every lgtm-ecs stack in one process (`make synth` or `npx cdktf synth`).

The environment comes from cdktf context `environment` (`-c environment=staging`
is not a cdktf CLI flag: put it in cdktf.json's "context") or $LGTM_ENVIRONMENT;
default prod.
"""

from __future__ import annotations

import sys

from cdktf import App

from components.registry import build_stacks
from config.common import ENVIRONMENT_CONTEXT_KEY, load_config, selected_environment
from components.shared.state_blocks import StateBlockError
from config.validation import ConfigError


def build_app(app: App) -> App:
    environment = selected_environment(app.node.try_get_context(ENVIRONMENT_CONTEXT_KEY))
    build_stacks(app, load_config(environment))
    return app


def main() -> int:
    try:
        app = build_app(App())
    except (ConfigError, StateBlockError) as error:
        print(f"synth stopped: {error}", file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
