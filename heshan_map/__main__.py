"""The heshan-map command: the Flask command line over the application factory (`python -m heshan_map`)."""
from __future__ import annotations

import logging

from flask.cli import FlaskGroup

from . import create_app, logsafe


def main() -> None:
    """Run the heshan-map command line."""
    logsafe.configure_logging(logging.INFO)
    FlaskGroup(create_app=create_app, add_version_option=False, load_dotenv=False,
               help="Heshan project map (鹤山市项目建设一张图).")(prog_name="heshan-map")


if __name__ == "__main__":
    main()
