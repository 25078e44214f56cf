"""Defaults and argument checks shared by the ACL client, interpreter, emulator and plugin.

Import-light: the plugin declaration imports it during discovery.
"""

from __future__ import annotations

#: The Fermilab ACL CGI (reachable only inside the Fermilab network).
DEFAULT_URL = "https://www-bd.fnal.gov/cgi-bin/acl.pl"
#: Environment variable with the CGI base URL for ``pacsys.acl()``.
URL_ENV = "PACSYS_ACL_URL"
#: Default budget of one client call, seconds.
DEFAULT_TIMEOUT = 5.0
#: Path the emulator serves (the real one).
DEFAULT_PATH = "/cgi-bin/acl.pl"
#: ``pacsys serve --acl-port`` default: the plain-HTTP sibling of the 10443 TLS proxy port
#: the reference project's real-server tests used.
DEFAULT_PORT = 10080
