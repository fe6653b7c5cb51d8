"""Where an Application's manifests come from: Git repositories (through the ``git`` CLI) and Helm chart
repositories, fetched into a cache on disk, with the credentials Argo CD's repository Secrets give."""
