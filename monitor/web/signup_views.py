"""Subscribe, confirm, manage and unsubscribe: the only pages that touch the private database, and only by token.

Every POST but /unsubscribe carries Datasette's CSRF token (checked by asgi-csrf against its cookie; a POST with no
cookie at all is refused here). /unsubscribe takes a mail client's RFC 8058 one-click POST, which has no cookie:
the 256-bit token in its URL is the authority. The answer to /subscribe never says whether an address is known.
"""
from __future__ import annotations

from core.errors import InputError
from monitor.delivery.subscriptions import validate_email
from monitor.web import lookup, mail, signups
from monitor.web.pages import client_key, html, too_many
from monitor.web.state import get_state
from spiders.registry import subscription_kinds

MAX_WARDS = 20


def _csrf_missing(request, form) -> bool:
    # asgi-csrf lets a request with no cookies through (nothing ambient to forge); these forms insist on one.
    return "ds_csrftoken" not in request.cookies or not form.get("csrftoken")


async def _refused(datasette, request):
    return await html(datasette, request, "message.html", status=403, title="Form expired",
                      body="This form could not be accepted: open the page again and resubmit it.")


async def _wards_and_kinds(datasette, state, form) -> tuple[list[str], list[str], list[str]]:
    wards, errors = [], []
    values = [v for v in form.getlist("ward") if v.strip()][:MAX_WARDS]
    lookups = lookup.Lookups(state)
    await lookups.ask(lookup.postcodes_in(values))   # every postcode of the form in one request to postcodes.io
    for value in values:
        code, why = await lookup.one_ward(datasette, state, value, lookups)
        wards.append(code) if code else errors.append(why)
    kinds = [k for k in form.getlist("kinds") if k in subscription_kinds()] or sorted(subscription_kinds())
    return sorted(set(wards)), kinds, errors


async def subscribe(datasette, request):
    state = get_state(datasette)
    if request.method != "POST":
        return await html(datasette, request, "subscribe.html", kinds=sorted(subscription_kinds()),
                          chosen=sorted(subscription_kinds()), wards=request.args.getlist("ward")[:MAX_WARDS] or [""],
                          email="", errors=[])
    if not state.limiter.allow(client_key(request)):
        return await too_many(datasette, request)
    form = await _form(request)
    if _csrf_missing(request, form):
        return await _refused(datasette, request)
    wards, kinds, errors = await _wards_and_kinds(datasette, state, form)
    email = form.get("email", "").strip()[:254]
    try:
        validate_email(email)
    except InputError:
        errors.append("That does not look like an email address.")
    if not wards and not errors:
        errors.append("Name at least one ward: its code, a postcode in it, or its name.")
    if errors:
        return await html(datasette, request, "subscribe.html", status=400, kinds=sorted(subscription_kinds()),
                          chosen=kinds, wards=form.getlist("ward")[:MAX_WARDS] or [""], email=email, errors=errors)
    now = state.clock()
    private = state.private_db()
    try:
        # Over the daily limit the request is dropped silently: the page must read the same either way.
        if signups.mails_today(private, email, now) < int(state.settings["web_confirmations_per_day"]):
            token = signups.request(private, email, wards, kinds, now)
            from monitor.delivery import outbox
            outbox.enqueue(private, [mail.confirmation(state, email, token, wards, now)], now)
            queued = True
        else:
            queued = False
    finally:
        private.close()
    if queued:
        await mail.send_now(state, now)
    return await html(datasette, request, "message.html", title="Check your email",
                      body="If that address can receive mail, a message with a confirmation link is on its way. "
                           "Nothing else will be sent until the link is used.")


async def _form(request):
    from urllib.parse import parse_qs

    from datasette.utils import MultiParams
    body = await request.post_body()
    return MultiParams(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True))


async def _token_request(datasette, request):
    """Return (state, form, token) of a confirm or manage request, or (state, None, "") when over the rate limit."""
    state = get_state(datasette)
    if not state.limiter.allow(client_key(request)):
        return state, None, ""
    form = await _form(request) if request.method == "POST" else request.args
    return state, form, form.get("token", "")[:100]


async def confirm(datasette, request):
    state, form, token = await _token_request(datasette, request)
    if form is None:
        return await too_many(datasette, request)
    private = state.private_db()
    try:
        if request.method != "POST":
            found = signups.pending(private, token, state.clock())
            return await html(datasette, request, "confirm.html", status=200 if found else 404, valid=bool(found),
                              token=token)
        if _csrf_missing(request, form):
            return await _refused(datasette, request)
        public = state.public_db()
        try:
            sub = signups.confirm(private, public, token, state.clock())
        finally:
            public.close()
    finally:
        private.close()
    if not sub:
        return await html(datasette, request, "confirm.html", status=404, valid=False, token="")
    return await html(datasette, request, "message.html", title="Subscribed",
                      body="Your alerts are on. Each message has a link to change or stop them.",
                      link=f"/manage?token={sub.token}", link_text="Change what you get")


async def manage(datasette, request):
    state, form, token = await _token_request(datasette, request)
    if form is None:
        return await too_many(datasette, request)
    private = state.private_db()
    try:
        sub = signups.by_token(private, token)
        if not sub:
            return await html(datasette, request, "message.html", status=404, title="Link not valid",
                              body="This link is not valid. Subscribe again from the ward's page.")
        errors = []
        if request.method == "POST":
            if _csrf_missing(request, form):
                return await _refused(datasette, request)
            wards, kinds, errors = await _wards_and_kinds(datasette, state, form)
            if not errors:
                signups.update(private, sub, wards, kinds)
                sub = signups.by_token(private, token)
        return await html(datasette, request, "manage.html", sub=sub, token=token, kinds=sorted(subscription_kinds()),
                          errors=errors, saved=request.method == "POST" and not errors)
    finally:
        private.close()


async def unsubscribe(datasette, request):
    state = get_state(datasette)
    if not state.limiter.allow(client_key(request)):
        return await too_many(datasette, request)
    token = request.args.get("token", "")[:100]
    private = state.private_db()
    try:
        sub = signups.by_token(private, token)
        if not sub:
            return await html(datasette, request, "message.html", status=404, title="Link not valid",
                              body="This unsubscribe link is not valid.")
        if request.method != "POST":
            return await html(datasette, request, "unsubscribe.html", token=token)
        await request.post_body()
        signups.leave(private, sub)
    finally:
        private.close()
    return await html(datasette, request, "message.html", title="Unsubscribed",
                      body="You will get no more mail from the monitor.")
