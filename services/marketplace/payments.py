"""Who vouches that an order part was paid: the seam where an acquirer's API would go.

Laris has no contract with a QRIS acquirer or a bank, so it cannot see money move. The vendor
does (in their QRIS merchant app, their bank account, or cash in hand on delivery), and today
their word, with the reference they choose to give (a QRIS or transfer reference number), is
what the marketplace records. Nothing here pretends otherwise: every payment says who
confirmed it.

To confirm payments with an acquirer later, write a class with the same ``confirm`` that asks
the acquirer (say, for the dynamic QRIS of the part, by amount and reference) and refuses
(a 409) while the money has not arrived; the marketplace's service uses it instead of
``VendorWord``, and nothing else changes. Pure today: no I/O.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConfirmedPayment:
    """A payment as the marketplace records it in the part's history and in ``order.part_paid``."""
    method: str             # how the buyer chose to pay: qris, transfer or cod
    amount_idr: int         # what the part costs, fixed at order time
    reference: str | None   # the payment's reference, as the confirmer gave it; None if none
    confirmed_by: str       # who vouches for it: "vendor" today, an acquirer's name one day


class VendorWord:
    """Payments confirmed on the vendor's own word, with an optional reference of theirs."""
    confirmed_by = "vendor"

    def confirm(self, *, method: str, amount_idr: int,
                reference: str | None = None) -> ConfirmedPayment:
        """The payment the vendor declares. The vendor is the only witness, so there is nothing
        to check against: the order rules (whose part, in which status) are checked before."""
        cleaned = reference.strip() if reference is not None else None
        return ConfirmedPayment(method=method, amount_idr=amount_idr,
                                reference=cleaned or None, confirmed_by=self.confirmed_by)
