"""A tiny package for the virtualenv test: installed from a local wheel."""


def greeting():
    return "hello from a package installed by pip"
