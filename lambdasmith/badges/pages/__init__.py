"""The badges service's web pages, served by the badges function itself (on Lambda as under
`lambdasmith serve`): the badge builder (`GET /`) and a repository's test dashboard
(`GET /dashboard/{owner}/{repo}`).

HTML is written by the server with the standard library only; the one script (`builder.js`,
the builder's live preview) and the one stylesheet (`site.css`) are files beside this one, served
from `/assets/`, so the pages run under a Content-Security-Policy that allows nothing inline and
nothing from another origin. Every page reads and works without JavaScript.
"""
