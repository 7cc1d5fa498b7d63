"""
The Django admin, where organizers and moderators work: the site (`site.py`,
which `admin.site` is) and one module per part of the work, each registering
its models on it. `UndersignedAdminConfig.ready` imports those modules once
the site exists; importing them from here would register them on a site
that the admin then throws away, since loading `site.py` runs this file first.
"""

MODULES = ("defences", "imports", "letters", "moderation", "outbox")
