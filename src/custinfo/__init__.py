"""custinfo — customer information classification and management (客户信息分类管理系统)."""

__version__ = "0.1.0"
