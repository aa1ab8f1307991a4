"""Who is calling: signed bearer tokens (OIDC-style JWTs) and the roles they carry.

A token is accepted when its signature verifies against one of the configured public keys (a
JWKS file, as an identity provider publishes them), its issuer and audience are ours, and it
has not expired. Its claims say the role and, for scoped roles, the scope:

- ``role``: one of :class:`Role`;
- ``reception_centre``: required for reception staff, the centre they work at;
- ``municipality_number``: required for a municipality, the four-digit number;
- ``cleared``: true if the holder may see protected-identity persons (default false).

For the embedded stack, :func:`dev_keys` makes a signing key pair in the state directory and
``bosetting tokens mint`` signs tokens with it. In production the identity provider signs and
``BOSETTING_API_JWKS_FILE`` points at its published keys."""

import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, model_validator

from schemas.enums import Role
from schemas.ids import MunicipalityNumber

ALGORITHMS = ["ES256", "RS256"]


class Principal(BaseModel):
    """The caller, as their token says."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    subject: str = Field(min_length=1, max_length=200)
    role: Role
    reception_centre: str | None = Field(None, min_length=1, max_length=32)
    municipality_number: MunicipalityNumber | None = None
    cleared: StrictBool = False
    """May see protected-identity persons and where they are: JSON true only, never "yes"
    or 1 (a loosely parsed clearance is a clearance nobody granted)."""

    @model_validator(mode="after")
    def _scoped(self) -> "Principal":
        if self.role is Role.RECEPTION and not self.reception_centre:
            raise ValueError("role 'reception' needs the claim reception_centre")
        if self.role is Role.MUNICIPALITY and not self.municipality_number:
            raise ValueError("role 'municipality' needs the claim municipality_number")
        # One scope per token: a claim the role does not have is a token minted wrong, and
        # guessing which scope was meant could widen it.
        if self.reception_centre is not None and self.role is not Role.RECEPTION:
            raise ValueError("reception_centre belongs to role 'reception' only")
        if self.municipality_number is not None and self.role is not Role.MUNICIPALITY:
            raise ValueError("municipality_number belongs to role 'municipality' only")
        return self


class Unauthenticated(Exception):
    """No token, or one we do not accept; the message says which rule it broke."""


class TokenVerifier:
    def __init__(self, jwks: dict[str, Any], *, issuer: str, audience: str) -> None:
        self._keys = jwt.PyJWKSet.from_dict(jwks)
        self._issuer = issuer
        self._audience = audience

    @classmethod
    def from_file(cls, path: Path, *, issuer: str, audience: str) -> "TokenVerifier":
        return cls(json.loads(path.read_text()), issuer=issuer, audience=audience)

    def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"token: not a JWT ({exc})") from None
        kid = header.get("kid")
        try:
            key = self._keys[kid] if kid else self._keys.keys[0]
        except KeyError:
            raise Unauthenticated("token: signed with a key we do not know (kid)") from None
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=ALGORITHMS,
                issuer=self._issuer,
                audience=self._audience,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("token: expired (exp)") from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated("token: issuer is not accepted (iss)") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("token: audience is not this API (aud)") from None
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthenticated(f"token: claim {exc.claim!r} is required") from None
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"token: {exc}") from None
        try:
            # The subject is the standard claim ``sub``; a claim named ``subject`` is ignored.
            return Principal.model_validate({**claims, "subject": claims["sub"]})
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(p) for p in problem["loc"]) or "claims"
            raise Unauthenticated(f"token: {where}: {problem['msg']}") from None


# -- development keys and tokens --------------------------------------------------------


def dev_keys(directory: Path) -> tuple[Path, Path]:
    """The embedded stack's signing key and its JWKS, made on first use: (private key PEM,
    JWKS JSON). Never for production: the identity provider holds production keys."""
    directory.mkdir(parents=True, exist_ok=True)
    private, public = directory / "dev-signing-key.pem", directory / "jwks.json"
    if not private.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        private.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        private.chmod(0o600)
        public.unlink(missing_ok=True)
    if not public.exists():
        loaded = serialization.load_pem_private_key(private.read_bytes(), password=None)
        assert isinstance(loaded, ec.EllipticCurvePrivateKey)
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(loaded.public_key()))
        jwk |= {"kid": "bosetting-dev", "use": "sig", "alg": "ES256"}
        public.write_text(json.dumps({"keys": [jwk]}, indent=2))
    return private, public


def mint(
    private_key: Path,
    *,
    issuer: str,
    audience: str,
    principal: Principal,
    ttl_s: int = 3600,
) -> str:
    """A token for ``principal``, signed with the development key."""
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": principal.subject,
        "iat": now,
        "exp": now + ttl_s,
        "jti": str(uuid.uuid4()),
        **principal.model_dump(exclude={"subject"}, exclude_none=True, mode="json"),
    }
    return jwt.encode(
        claims, private_key.read_bytes(), algorithm="ES256", headers={"kid": "bosetting-dev"}
    )
