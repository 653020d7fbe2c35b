"""kura over HTTP (`kura serve`): an OpenAI-compatible chat endpoint, search, documents and ticket drafts, for the
tools people already use inside the firewall. Routes only translate; every rule lives in the service."""
