"""The exception hierarchy of every Reqivo package, as one public module.

The classes (and the tree, drawn in the docstring of their defining module) are the ones
``reqivo_protocol`` exports at its top level. This module holds them alone, so that the
packages re-exporting the whole hierarchy do so with one star import of a public module
(``from reqivo_protocol.exceptions import *``) and nothing else of the protocol package.
"""

from __future__ import annotations

from reqivo_protocol._exceptions import *  # noqa: F403
from reqivo_protocol._exceptions import __all__ as __all__
