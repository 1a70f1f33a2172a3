"""Component ids, one constant each, prefixed by page (DESIGN.md convention 3)."""

# shell
SHELL_URL = "shell-url"
SHELL_NAV = "shell-nav"
SHELL_USER = "shell-user"

# account
ACCOUNT_CURRENT = "account-current"
ACCOUNT_NEW = "account-new"
ACCOUNT_REPEAT = "account-repeat"
ACCOUNT_SUBMIT = "account-submit"
ACCOUNT_RESULT = "account-result"
