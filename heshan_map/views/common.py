"""Request parsing shared by the views."""
from __future__ import annotations

from flask import request

from .. import repository
from ..db import get_session
from ..filters import Filter, check_parks, parse_filter


def request_filter() -> Filter:
    """Parse the shared filter of the current request, checking park names against the database."""
    selection = parse_filter(request.args)
    if selection.parks:
        check_parks(selection, repository.park_names(get_session()))
    return selection
