"""Declarative routes: each HTTP route names the RPC it forwards to, who may call it, and the
shapes it documents. A new service's routes are a few ``route(...)`` lines.

Who validates what (decision 15 in docs/decisions.md): the service is the authority on its
payloads, because it must refuse a bad RPC payload whoever sends it. The gateway therefore
does not load bodies with the service's schemas; it checks only what is HTTP's (a token and
role, well-formed JSON of bounded size and depth) and forwards the body as received. The
schemas still describe every body in the OpenAPI document, from the service's contract.

What the RPC receives, in order: the caller (``{account_id, role}`` or None) unless
``caller=False``, the path's parameters in the order of the rule, then the body (routes with
``body=``) or the query (routes with ``query=``); keyword arguments ``idempotency_key``,
``client`` (the client's address) and any ``headers`` asked for.
"""
import re

from flask import Response, g, request

from services.gateway import auth, catalogue_cache
from services.gateway.http import json_body, reply
from services.gateway.rpc import call

BEARER = [{"bearer": []}]
IDEMPOTENCY_KEY_PARAMETER = {
    "in": "header", "name": "Idempotency-Key", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    "description": "Retrying with the same key and body returns the first result instead of "
                   "writing twice; the same key with another body is a 422."}
IF_NONE_MATCH_PARAMETER = {
    "in": "header", "name": "If-None-Match", "required": False,
    "schema": {"type": "string", "maxLength": 200},
    "description": "The ETag of an answer already held: unchanged, the answer is a 304."}
_PATH_PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def route(blp, method, rule, rpc, *, roles=None, body=None, query=None, response=None,
          status=200, description=None, idempotent=False, headers=None, caller=True,
          client=False, etag=False, shape=None, mimetype=None, cache=None):
    """Register ``method rule`` on ``blp``, forwarding to ``rpc`` ("service.method").

    ``roles``: None for a public route, () for any token, or the roles allowed.
    ``headers``: {"If-Match": "if_match"} forwards request headers as keyword arguments.
    ``etag``: answer with the result's ``version`` as its ETag.
    ``shape``: turns the RPC's result into the HTTP body (e.g. a token from an account, or
    the bytes of a PNG the RPC sent as base64).
    ``mimetype``: the RPC answers a document of this type (e.g. an SVG), sent as it is.
    ``cache``: a public catalogue GET answered from the gateway's catalogue cache:
    "product" (the page of the product named by the one path parameter) or "search" (a list
    of products). See catalogue_cache.py for what it keeps and for how long.
    """
    service, method_name = rpc.split(".")
    path_names = _PATH_PARAMETER.findall(rule)
    forwarded_headers = dict(headers or {})
    _check_cacheable(cache, method, rule, roles, path_names)

    def forward(**path_args):
        args = [g.caller] if caller else []
        args += [path_args[name] for name in path_names]
        if body is not None:
            args.append(json_body())
        if query is not None:
            args.append(request.args.to_dict())
        kwargs = {kwarg: request.headers.get(header)
                  for header, kwarg in forwarded_headers.items()}
        if idempotent:
            kwargs["idempotency_key"] = request.headers.get("Idempotency-Key")
        if client:
            kwargs["client"] = request.remote_addr
        result = call(service, method_name, *args, **kwargs)
        if mimetype:
            return Response(shape(result) if shape else result, status=status,
                            mimetype=mimetype)
        answer = reply(shape(result) if shape else result, status)
        if etag and isinstance(result, dict) and result.get("version") is not None:
            answer.set_etag(str(result["version"]))
        return answer

    def view(**path_args):
        if cache is None:
            return forward(**path_args)
        return catalogue_cache.serve(cache, path_args, caller,
                                     lambda: forward(**path_args))

    view.__name__ = method_name
    view.__doc__ = description
    if roles is not None:
        view = auth.requires(*roles)(view)
    for decorate in _documentation(blp, body, query, response, status, description, roles,
                                   idempotent, forwarded_headers, mimetype,
                                   conditional=cache is not None):
        view = decorate(view)
    blp.route(rule, methods=[method], endpoint=method_name)(view)


def _check_cacheable(cache, method, rule, roles, path_names):
    """Only a public GET whose answer the path and query decide may be kept."""
    if cache is None:
        return
    if cache not in ("product", "search"):
        raise ValueError(f"{rule}: cache is 'product' or 'search', not {cache!r}")
    if method != "GET" or roles is not None:
        raise ValueError(f"{method} {rule}: only a public GET may be cached")
    if cache == "product" and len(path_names) != 1:
        raise ValueError(f"{rule}: a cached product page names its product in one parameter")


def _documentation(blp, body, query, response, status, description, roles, idempotent,
                   headers, mimetype, conditional=False):
    operation = {"parameters": []}
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": body}}}
    if query is not None:
        operation["parameters"].append({"in": "query", "schema": query})
    if idempotent:
        operation["parameters"].append(IDEMPOTENCY_KEY_PARAMETER)
    for header in headers:
        operation["parameters"].append({"in": "header", "name": header, "required": False,
                                        "schema": {"type": "string", "maxLength": 100}})
    if conditional:
        operation["parameters"].append(IF_NONE_MATCH_PARAMETER)
    if roles is not None:
        operation["security"] = BEARER
    yield blp.doc(**operation)
    yield blp.alt_response(status, schema=response, success=True, description=description,
                           content_type=mimetype)
    if conditional:
        yield blp.alt_response(304, description="Not modified: the answer's ETag is one sent "
                                                "in If-None-Match. No body.")
