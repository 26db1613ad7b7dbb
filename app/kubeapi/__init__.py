"""The Kubernetes API server's REST conventions over Podpath's cluster model, without HTTP.

What kubectl expects of a server, as pure functions: which resources exist and how they are
discovered (:mod:`~app.kubeapi.resources`, :mod:`~app.kubeapi.discovery`), the ``Status``
an error becomes (:mod:`~app.kubeapi.status`), label and field selectors
(:mod:`~app.kubeapi.selectors`), the patch types (:mod:`~app.kubeapi.patches`), the objects
the model keeps in another shape (:mod:`~app.kubeapi.convert`), Tables
(:mod:`~app.kubeapi.tables`), watch events (:mod:`~app.kubeapi.watch`) and the OpenAPI
documents ``kubectl explain`` reads (:mod:`~app.kubeapi.openapi`). The web package
``app.web.kubeapi`` only routes requests to these.
"""
