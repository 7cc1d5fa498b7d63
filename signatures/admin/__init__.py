"""
The Django admin, where organizers and moderators work: the site (`site.py`,
which `admin.site` is) and one module per part of the work, each registering
its models on it. `UndersignedAdminConfig.parts` (signatures/apps.py) lists
those modules; add a new one there.
"""
