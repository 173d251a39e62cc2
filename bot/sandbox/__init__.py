"""The offline sandbox and the scripted demo: the service against the simulators."""
