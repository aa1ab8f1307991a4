"""The casework web app, served by the API process under ``/app`` (pages.py).

Server-rendered Norwegian pages (templates/, message catalogues in locale/) in the look of
Designsystemet, the Norwegian public sector's design system (its CSS is built by ``make``
from npm into static/). The pages are a client of the API's own routes (client.py), signed
in through the organisation's identity provider (oidc.py) or, on a development stack, a
role picker; sessions are server-side (sessions.py). Forms are made from the command models
(forms.py); what a page calls things is in labels.py."""
