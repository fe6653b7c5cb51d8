"""Comparing an Application's rendered targets with the live objects, as Argo CD does. All pure.

- ``tracking``: which app owns a live object (tracking-id annotation, instance label, or both);
- ``normalize``: what is dropped or rewritten on both sides (server metadata, CR status, Secret stringData,
  quantities);
- ``ignore``: ``ignoreDifferences`` rules (app and argocd-cm) and RespectIgnoreDifferences' live values;
- ``managed_fields``: server-side apply field ownership (FieldsV1);
- ``diff``: three-way / two-way / server-side-apply diff of one resource, its predicted live object and masked text;
- ``hooks``: hook types, Skip and sync waves from annotations;
- ``comparison``: ``compare_app`` over a whole app, and its ``status.resources`` entries.
"""
