import os
from a.b import (c,
  d)
try:
    import x
except ImportError:
    pass
if TYPE_CHECKING:
    import y
m = importlib.import_module("z")
s = f"{a!r:>{w}}" + rb"\x"
