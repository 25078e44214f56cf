"""``pacsys.acl_session``: persistent ACL sessions over SSH (provided by pacsys-ssh)."""

from pacsys._provided import reexport

reexport(globals(), "pacsys_ssh.acl_session", "pacsys-ssh")
