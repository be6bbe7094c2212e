"""Closing an account, the accounts side of a choreography nobody orchestrates.

``DELETE /api/users/me`` records the request and publishes ``AccountClosureRequested``
(correlation id: the closure's id). Billing cancels the subscription and refunds the unused
part of the period, then answers ``BillingClosedForAccount`` — or
``AccountClosureRefundDeclined``, which pauses the closure. Notifications, once billing is
done, sends the farewell mail and erases what it holds about the user, then answers
``FarewellSentAndDataErased``. When both have answered ``done``, this side erases the
credentials and the profile and publishes ``AccountClosed``. ``GET /api/users/me/closure``
says where the closure stands while the account still exists.

The monolith plays the accounts side while ``/api/users`` is routed to it; the auth service
plays it once the route is on new (``auth_service/entrypoints/closure.py``). Both are built
on ``strangler_closures``; the events are the contract, so nobody else changes. A closure a
declined refund paused is resumed with ``POST /api/users/me/closure/resume``.
"""
