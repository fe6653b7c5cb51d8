"""Sync operations, as gitops-engine's pkg/sync plans them: pure decisions over plain dicts.

``step.plan_sync_step`` is the resumable step function (one phase/wave per pass, all progress in
``status.operationState``); ``results.record_results`` folds the controller's action results back into that state;
``automation`` decides auto-sync, self-heal and retries; ``history`` keeps the deployment history and builds rollbacks.
"""
