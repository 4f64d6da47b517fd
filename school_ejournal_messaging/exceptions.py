# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
from trytond.exceptions import UserError


class DiaryError(UserError):
    "The e-diary refuses a request"


class MessageError(UserError):
    "A message, thread, notice or event breaks a rule of the messaging"
