"""newsbot: publishes a newsroom's posts to Telegram chats."""
