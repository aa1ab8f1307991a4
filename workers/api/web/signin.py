"""Who you are: signing in (the organisation's identity provider, or on a development
stack the role picker), signing out, the language, and the purpose asked once per session."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from schemas.enums import Role
from workers.api.auth import Principal, Unauthenticated, mint
from workers.api.web.oidc import SignInFailed
from workers.api.web.reader import (
    HOME,
    LANG_COOKIE,
    Reader,
    check_csrf,
    config_of,
    context_of,
    locale_of,
    log,
    reader,
    render,
    safe_next,
    sessions,
)

router = APIRouter(prefix="/app", include_in_schema=False)


@router.get("")
async def home(request: Request) -> Response:
    who = await reader(request)
    assert who.principal is not None
    return RedirectResponse(HOME[who.principal.role], 303)


@router.get("/sign-in")
async def sign_in_page(
    request: Request,
    next: Annotated[str | None, Query(max_length=500)] = None,
    expired: Annotated[int | None, Query(ge=0, le=1)] = None,
    failed: Annotated[int | None, Query(ge=0, le=1)] = None,
    signed_out: Annotated[int | None, Query(ge=0, le=1)] = None,
) -> Response:
    config = config_of(request)
    provider_sign_out = None
    if signed_out and config.oidc is not None:
        # A link, not a redirect: the page's policy lets forms lead to this site only.
        provider_sign_out = await config.oidc.end_session_url(str(request.url_for("sign_in_page")))
    who = Reader(request, locale_of(request))
    who.web = await sessions(request).find(request)
    response = HTMLResponse("")
    if who.web is None:
        who.web = await sessions(request).start(request, response)
    page = render(
        who,
        "sign_in.html",
        next=safe_next(next),
        dev=config.dev_sign_in is not None,
        oidc=config.oidc is not None,
        roles=[r for r in Role],
        expired=bool(expired),
        failed=bool(failed),
        signed_out=bool(signed_out),
        provider_sign_out=provider_sign_out,
    )
    for name, value in response.headers.items():
        if name == "set-cookie":
            page.headers.append(name, value)
    return page


@router.post("/sign-in/dev")
async def dev_sign_in(
    request: Request,
    csrf: Annotated[str, Form(max_length=100)],
    role: Annotated[Role, Form()],
    subject: Annotated[str, Form(min_length=1, max_length=100)],
    place: Annotated[str, Form(max_length=32)] = "",
    cleared: Annotated[str, Form(max_length=3)] = "",
    next: Annotated[str, Form(max_length=500)] = "/app",
) -> Response:
    config = config_of(request)
    if config.dev_sign_in is None:
        raise HTTPException(404, "not found")
    who = Reader(request, locale_of(request))
    who.web = await sessions(request).find(request)
    await check_csrf(who, csrf)
    claims: dict[str, Any] = {"subject": subject, "role": role, "cleared": cleared == "on"}
    if role is Role.RECEPTION:
        claims["reception_centre"] = place or None
    elif role is Role.MUNICIPALITY:
        claims["municipality_number"] = place or None
    try:
        principal = Principal.model_validate(claims)
    except ValueError:
        return render(
            who,
            "sign_in.html",
            status=422,
            next=safe_next(next),
            dev=True,
            oidc=config.oidc is not None,
            roles=list(Role),
            place_error=True,
            chosen=role.value,
            subject=subject,
        )
    dev = config.dev_sign_in
    token = mint(
        dev.private_key,
        issuer=dev.issuer,
        audience=dev.audience,
        principal=principal,
        ttl_s=int(config.session_ttl.total_seconds()),
    )
    response = RedirectResponse(safe_next(next), 303)
    await sessions(request).end(who.web, response)
    await sessions(request).start(request, response, token=token)
    return response


@router.get("/sign-in/oidc")
async def oidc_begin(
    request: Request, next: Annotated[str | None, Query(max_length=500)] = None
) -> Response:
    oidc = config_of(request).oidc
    if oidc is None:
        raise HTTPException(404, "not found")
    try:
        address, pending = await oidc.begin(str(request.url_for("oidc_callback")))
    except SignInFailed:
        return RedirectResponse("/app/sign-in?failed=1", 303)
    response = RedirectResponse(address, 303)
    await sessions(request).start(request, response, pending={**pending, "next": safe_next(next)})
    return response


@router.get("/sign-in/callback")
async def oidc_callback(
    request: Request,
    state: Annotated[str, Query(max_length=200)] = "",
    code: Annotated[str, Query(max_length=2000)] = "",
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    oidc = config_of(request).oidc
    if oidc is None:
        raise HTTPException(404, "not found")
    web = await sessions(request).find(request)
    failed = RedirectResponse("/app/sign-in?failed=1", 303)
    if web is None or web.pending is None or error or not code:
        return failed
    try:
        token = await oidc.finish(web.pending, state, code)
        context_of(request).verifier.verify(token)
    except (SignInFailed, Unauthenticated) as exc:
        log.warning("sign-in refused", reason=str(exc))
        await sessions(request).end(web, failed)
        return failed
    response = RedirectResponse(safe_next(web.pending.get("next")), 303)
    await sessions(request).end(web, response)
    await sessions(request).start(request, response, token=token)
    return response


@router.post("/sign-out")
async def sign_out(request: Request, csrf: Annotated[str, Form(max_length=100)]) -> Response:
    who = Reader(request, locale_of(request))
    who.web = await sessions(request).find(request)
    await check_csrf(who, csrf)
    response = RedirectResponse("/app/sign-in?signed_out=1", 303)
    await sessions(request).end(who.web, response)
    return response


@router.get("/language")
async def language(
    request: Request,
    to: Annotated[str, Query(pattern=r"^(nb|en)$")],
    next: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    response = RedirectResponse(safe_next(next), 303)
    response.set_cookie(LANG_COOKIE, to, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


@router.get("/purpose")
async def purpose_page(
    request: Request, next: Annotated[str | None, Query(max_length=500)] = None
) -> Response:
    who = await reader(request)
    return render(who, "purpose.html", next=safe_next(next))


@router.post("/purpose")
async def give_purpose(
    request: Request,
    csrf: Annotated[str, Form(max_length=100)],
    purpose: Annotated[str, Form(max_length=500)] = "",
    next: Annotated[str, Form(max_length=500)] = "/app",
) -> Response:
    who = await reader(request)
    await check_csrf(who, csrf)
    if len(purpose.strip()) < 3:
        return render(who, "purpose.html", status=422, next=safe_next(next), error=True)
    assert who.web is not None
    await sessions(request).update(who.web, purpose=purpose.strip())
    return RedirectResponse(safe_next(next), 303)
