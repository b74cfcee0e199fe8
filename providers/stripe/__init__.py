"""Stripe: subscriptions as bindings, invoices as their backup dataset.

``client.StripeProvider`` speaks the real API (``https://api.stripe.com``) through
``providers.http``; ``emulator.StripeEmulator`` stands in for it under ``/stripe`` in the
sandbox. ``forms`` is Stripe's bracketed form encoding, shared by both; ``objects`` and
``store`` complete and index the scenario's objects for the emulator; ``rights`` maps tether's
rights to the permissions of Stripe's restricted keys.
"""
