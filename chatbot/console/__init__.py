"""The agent console: server-rendered pages over the agent API's service (chatbot/console/pages.py)."""
