"""The casework web app, served by the API process under ``/app`` (mount.py).

Server-rendered Norwegian pages (templates/, message catalogues in locale/) in the look of
Designsystemet, the Norwegian public sector's design system (its CSS is built by ``make``
from npm into static/). Why server-rendered: casework is lists and forms; whole HTML pages
work with the keyboard and a screen reader as the browser gives them, need no script and no
build of ours, and forms post and redirect.

signin.py says who the reader is (the organisation's identity provider via oidc.py, or on a
development stack a role picker); casework.py and overview.py are the pages; reader.py
renders them for the reader. The pages are a client of the API's own routes (client.py), so
scope, redaction and audit are the API's. Sessions are server-side (sessions.py); forms are
made from the command models (forms.py); what a page calls things is labels.py."""
