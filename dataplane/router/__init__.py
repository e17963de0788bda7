"""Devices with a control-plane agent: routers (router.p4 architecture) and learning switches."""
