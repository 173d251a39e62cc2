"""``tandem bench``'s runs (the command line declares them in :mod:`bot.commands.bench`).

``tandem bench load``: the whole service under closed-loop load, against the simulators
and a bare Rasa on the same model.

- :mod:`.load`: the run, row by row; :mod:`.report`: the rows and how they are printed
- :mod:`.service`: the service as a child process; :mod:`.rasa`: the bare Rasa
- :mod:`.customers`: the virtual customers and the replies they wait for
- :mod:`.texts`: what they say; :mod:`.storage`: the databases; :mod:`.cpu`: /proc
- :mod:`.workers`, :mod:`.workers_report`: ``--workers N``, several ``tandem run`` behind a
  balancer, and what they delivered

The others: :mod:`.frustration`, :mod:`.oos`, :mod:`.intents`, :mod:`.pii`, :mod:`.agent`
(``agent-reply``), :mod:`.slack_burst`.
"""
