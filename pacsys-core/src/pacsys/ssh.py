"""``pacsys.ssh``: SSH client, tunnels and remote processes (provided by pacsys-ssh)."""

from pacsys._provided import reexport

reexport(globals(), "pacsys_ssh.client", "pacsys-ssh")
