"""``gymrun board``: a local web scoreboard of every recorded run, as a static site.

`gymrun.board.build.build_board` writes it; `gymrun.board.serve.serve_board` serves it on
127.0.0.1 and rebuilds it as runs change. It needs the ``board`` extra (jinja2, scipy,
matplotlib).
"""
