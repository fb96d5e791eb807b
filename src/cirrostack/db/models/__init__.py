"""Every cirrostack model, imported so that ``metadata`` knows every table.

One module per area; the table and column names are CloudStack's.
"""

from cirrostack.db.base import Base
from cirrostack.db.models import accounts

metadata = Base.metadata

__all__ = ["Base", "accounts", "metadata"]
