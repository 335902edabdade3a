"""Helpers shared by the tests: where things are, servers on a free port, images, gradients."""
