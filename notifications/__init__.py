"""Notifications compatible with Argo's notifications engine (``argoproj/notifications-engine``).

Argo Rollouts reads ``argo-rollouts-notification-configmap`` (and ``argo-rollouts-notification-secret``) in the
controller's namespace, Argo CD reads ``argocd-notifications-cm`` (and ``argocd-notifications-secret``) in the
Applications' namespace; both hold ``service.*``, ``template.*``, ``trigger.*``, ``defaultTriggers``,
``subscriptions`` and ``context``. Objects subscribe with ``notifications.argoproj.io/subscribe.<trigger>.<service>``
annotations. See ``docs/notifications.md``.

Pure pieces: ``config`` (parsing, ``$secret`` references), ``defaults`` (the built-in triggers and templates),
``subscriptions`` (who wants which trigger), ``triggers`` (conditions and ``oncePer``), ``state`` (the
``notified.notifications.argoproj.io`` annotation), ``templates`` (rendering), ``decisions`` (what one pass
sends). I/O: ``services`` (webhook, Slack, email), ``delivery`` (the bounded queue, retries, backoff),
``metrics`` (Argo's delivery counters) and ``controller`` (the watches and passes).
"""
