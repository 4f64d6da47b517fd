# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
# The e-diary's pages are trytond routes: importing them registers them
from . import diary_letters  # noqa: F401,E402
from . import diary_messages  # noqa: F401,E402
from . import routes  # noqa: F401
