"""FhirClient: read, search (all pages), create and update on one FHIR R4 server, per vendor."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from urllib.parse import quote, urlsplit

import requests

from fhir_client.capability_cache import CapabilityCache
from fhir_client.completeness import read_searchset_page, short_of_total, total_of
from fhir_client.errors import FhirError, FhirIncompleteRead, FhirNotFound
from fhir_client.fhir_json import FhirJson
from fhir_client.json_body import decode_body, encode_body
from fhir_client.messages import (
    Call,
    error_from_body,
    error_from_guard,
    error_from_incomplete,
    error_from_stopped_paging,
)
from fhir_client.paging import next_link, same_origin
from fhir_client.retry import DEFAULT_RETRY_STATUSES, RetryPolicy
from fhir_client.transport import FHIR_JSON, Request, Transport
from fhir_client.vendors import VendorProfile, detect_vendor, vendor_profile

LOGGER = logging.getLogger("fhir_client")
SearchParams = Mapping[str, str | Sequence[str]] | Sequence[tuple[str, str]]

__all__ = ["FhirClient", "SearchParams"]


class FhirClient:
    """A small FHIR R4 client for one server and one access token (refreshed by the app).

    `access_token_provider` is called before every attempt, so a token the app refreshed is used
    at once; on a 401 the client calls `on_unauthorized` (which refreshes and says whether it
    could) once, then tries again once. Retries: see `retry.py`. Errors: see `errors.py`.

    `vendor` None: the profile is read from the server's CapabilityStatement at the first call
    that needs it (`detect_vendor`; `generic` when the statement cannot be read). `client_id`
    goes into the profile's client id header (Epic's `Epic-Client-ID`) on every request.
    """

    def __init__(
        self,
        base_url: str,
        access_token_provider: Callable[[], str],
        *,
        session: requests.Session | None = None,
        vendor: str | VendorProfile | None = "generic",
        client_id: str | None = None,
        page_size: int = 100,
        timeout: float = 10.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        retry_budget: float = 30.0,
        retry_server_errors: bool = False,
        max_pages: int = 100,
        max_resources: int = 10_000,
        verify: bool | str | None = None,
        on_unauthorized: Callable[[], bool] | None = None,
        capability_cache: CapabilityCache | None = None,
        cache_key: str = "",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if page_size < 1 or max_pages < 1 or max_resources < 1 or timeout <= 0:
            raise ValueError("page_size, max_pages, max_resources and timeout must be positive")
        self.base_url = base_url.rstrip("/")
        self._vendor = vendor_profile(vendor) if vendor is not None else None
        self._vendor_lock = threading.Lock()
        self._client_id = client_id
        self.page_size = page_size
        self.max_pages = max_pages
        self.max_resources = max_resources
        statuses = DEFAULT_RETRY_STATUSES | ({500} if retry_server_errors else set())
        self._transport = Transport(
            session=session or requests.Session(),
            token_provider=access_token_provider,
            policy=RetryPolicy(max_retries, backoff, retry_budget, frozenset(statuses)),
            timeout_s=timeout,
            verify=verify,
            on_unauthorized=on_unauthorized,
            clock=clock,
            sleep=sleep,
            rng=rng,
        )
        self._capabilities: FhirJson | None = None
        self._capabilities_lock = threading.Lock()
        self._capability_cache = capability_cache
        self._cache_key = (self.base_url, cache_key)
        if self._vendor is not None:
            self._use_vendor(self._vendor)

    @property
    def vendor(self) -> VendorProfile:
        """The vendor profile: as given, or read from the CapabilityStatement once."""
        with self._vendor_lock:
            profile = self._vendor
            if profile is None:
                try:
                    statement: FhirJson | None = self.capabilities()
                except FhirError as error:
                    LOGGER.warning("vendor not detected: %s; generic profile", error)
                    statement = None
                profile = detect_vendor(statement)
                self._use_vendor(profile)
            return profile

    def _use_vendor(self, profile: VendorProfile) -> None:
        self._vendor = profile
        if profile.client_id_header and self._client_id:
            self._transport.headers[profile.client_id_header] = self._client_id

    # -- reads --
    def read(self, resource_type: str, resource_id: str) -> FhirJson:
        """GET [base]/[type]/[id]."""
        self._check_supported(resource_type, "GET")
        url = f"{self.base_url}/{resource_type}/{quote(resource_id, safe='')}"
        return self._json(Request("GET", url, resource_type, retry_safe=True))

    def search(self, resource_type: str, params: SearchParams | None = None) -> list[FhirJson]:
        """Every resource of a search, following `next` links to the last page.

        Searchset entries of every mode (match and include) are returned; OperationOutcome
        entries (mode `outcome`, warnings about the search) are left out. A search that cannot
        be read whole (completeness.py: malformed entries, a next page that fails, fewer matches
        than the server's `total`) raises FhirIncompleteRead: nothing is skipped silently.
        """
        call = Call("GET", resource_type)
        resources: list[FhirJson] = []
        matches = 0
        total: int | None = None
        pages = self.search_pages(resource_type, params)
        for page in range(1, self.max_pages + 2):
            try:
                bundle = next(pages)
            except StopIteration:
                break
            except FhirError as error:
                if page == 1 or isinstance(error, FhirIncompleteRead):
                    raise
                raise error_from_stopped_paging(call, page, error) from error
            reading = read_searchset_page(bundle, resource_type)
            if reading.problems:
                raise error_from_incomplete(call, reading.problems)
            if page == 1:
                total = total_of(bundle)
            resources.extend(reading.resources)
            matches += reading.matches
            if len(resources) > self.max_resources:
                raise self._too_much(resource_type, f"more than {self.max_resources} resources")
        short = short_of_total(matches, total)
        if short is not None:
            raise error_from_incomplete(call, (short,))
        return resources

    def search_pages(
        self, resource_type: str, params: SearchParams | None = None
    ) -> Iterator[FhirJson]:
        """Each searchset Bundle of a search in turn, the vendor's rules applied to the first."""
        self._check_supported(resource_type, "GET")
        pairs = self.vendor.search_params(resource_type, _pairs(params), self.page_size)
        request = Request("GET", f"{self.base_url}/{resource_type}", resource_type, True, pairs)
        seen: set[str] = set()
        for page in range(1, self.max_pages + 1):
            bundle = self._json(request)
            if bundle.get("resourceType") != "Bundle":
                raise error_from_body(Call("GET", resource_type), 200)
            yield bundle
            url = next_link(bundle, self.base_url)
            if url is None:
                return
            self._check_next(resource_type, url, seen)
            if page == self.max_pages:
                raise self._too_much(resource_type, f"more than {self.max_pages} pages")
            request = Request("GET", url, resource_type, retry_safe=True)

    def capabilities(self) -> FhirJson:
        """The server's CapabilityStatement (GET [base]/metadata): read once per client, and
        shared across clients through the capability cache when one is given."""
        with self._capabilities_lock:
            if self._capabilities is None and self._capability_cache is not None:
                self._capabilities = self._capability_cache.get(self._cache_key)
            if self._capabilities is None:
                request = Request("GET", f"{self.base_url}/metadata", "CapabilityStatement", True)
                self._capabilities = self._json(request)
                if self._capability_cache is not None:
                    self._capability_cache.put(self._cache_key, self._capabilities)
            return self._capabilities

    def supports(self, resource_type: str) -> bool:
        """Whether the server has this resource type (vendor profile, then CapabilityStatement;
        True when the CapabilityStatement cannot be read, so that the call itself decides)."""
        if resource_type in self.vendor.absent_types:
            return False
        try:
            types = {resource.get("type") for resource in _rest_resources(self.capabilities())}
        except FhirError:
            return True
        return not types or resource_type in types

    def search_includes(self, resource_type: str) -> frozenset[str]:
        """The `_include` values the CapabilityStatement lists for a type (empty when unknown)."""
        try:
            resources = _rest_resources(self.capabilities())
        except FhirError:
            return frozenset()
        for resource in resources:
            if resource.get("type") == resource_type:
                return frozenset(str(v) for v in resource.get("searchInclude") or [])
        return frozenset()

    # -- writes --
    def create(self, resource: FhirJson, if_none_exist: str | None = None) -> tuple[int, FhirJson]:
        """POST [base]/[type]; `if_none_exist` (a query such as `identifier=sys|val`) makes it a
        conditional create, which answers 200 with the existing match instead of a duplicate.
        Returns the status (201 created, 200 matched) and the resource the server holds."""
        resource_type = _type_of(resource)
        self._check_supported(resource_type, "POST")
        headers = {"Content-Type": FHIR_JSON, "Prefer": "return=representation"}
        if if_none_exist:
            headers["If-None-Exist"] = if_none_exist
        # POST is retried only when conditional: a retry then finds the first try's resource.
        request = Request(
            "POST",
            f"{self.base_url}/{resource_type}",
            resource_type,
            retry_safe=bool(if_none_exist),
            body=encode_body(resource),
            headers=headers,
        )
        response = self._transport.send(request)
        return response.status_code, self._written(response, resource_type)

    def update(self, resource: FhirJson, if_match: str | None = None) -> FhirJson:
        """PUT [base]/[type]/[id]; `if_match` (a versionId or an ETag) guards a lost update.
        PUT is idempotent (RFC 9110 9.2.2), so it is retried like a read."""
        resource_type = _type_of(resource)
        resource_id = resource.get("id")
        if not isinstance(resource_id, str) or not resource_id:
            raise ValueError("an updated resource needs its id")
        self._check_supported(resource_type, "PUT")
        headers = {"Content-Type": FHIR_JSON, "Prefer": "return=representation"}
        if if_match:
            headers["If-Match"] = if_match if '"' in if_match else f'W/"{if_match}"'
        url = f"{self.base_url}/{resource_type}/{quote(resource_id, safe='')}"
        body = encode_body(resource)
        request = Request("PUT", url, resource_type, True, body=body, headers=headers)
        return self._written(self._transport.send(request), resource_type) or resource

    # -- helpers --
    def _json(self, request: Request) -> FhirJson:
        response = self._transport.send(request)
        try:
            body = decode_body(response.content)
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("resourceType"), str):
            raise error_from_body(Call(request.method, request.resource_type), response.status_code)
        return body

    def _written(self, response: requests.Response, resource_type: str) -> FhirJson:
        """The resource a write answered with; from its Location when the body is empty."""
        if response.content:
            try:
                body = decode_body(response.content)
            except ValueError:
                body = None
            if isinstance(body, dict) and body.get("resourceType") == resource_type:
                return body
        location = urlsplit(response.headers.get("Location", "")).path.split("/")
        if resource_type in location[:-1]:
            return {
                "resourceType": resource_type,
                "id": location[location.index(resource_type) + 1],
            }
        return {}

    def _check_supported(self, resource_type: str, method: str) -> None:
        if resource_type in self.vendor.absent_types:
            call = Call(method, resource_type)
            raise FhirNotFound(
                f"{method} {resource_type}: absent from the {self.vendor.name} profile",
                user_message=f"{self.vendor.display}'s FHIR API has no {resource_type} resource "
                f"({call.words}).",
                resource_type=resource_type,
            )

    def _check_next(self, resource_type: str, url: str, seen: set[str]) -> None:
        call = Call("GET", resource_type)
        if not same_origin(url, self.base_url):
            raise error_from_guard(
                call,
                "next link to another origin refused",
                f"The EHR's answer for {call.words} pointed to another server for its next page;"
                " the app did not follow it.",
            )
        if url in seen:
            raise error_from_guard(
                call, "next link loops", f"The EHR's pages of {call.words} repeat in a loop."
            )
        seen.add(url)

    def _too_much(self, resource_type: str, reason: str) -> FhirError:
        call = Call("GET", resource_type)
        return error_from_guard(
            call,
            f"search stopped: {reason}",
            f"The EHR returned {reason} of {call.words}; the app stopped reading so as not to "
            "show an incomplete picture as complete.",
        )


def _pairs(params: SearchParams | None) -> list[tuple[str, str]]:
    if params is None:
        return []
    if isinstance(params, Mapping):
        pairs: list[tuple[str, str]] = []
        for name, value in params.items():
            values = [value] if isinstance(value, str) else list(value)
            pairs.extend((name, item) for item in values)
        return pairs
    return [(name, value) for name, value in params]


def _type_of(resource: FhirJson) -> str:
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str) or not resource_type.isalpha():
        raise ValueError("a resource to write needs its resourceType")
    return resource_type


def _rest_resources(capability: FhirJson) -> list[FhirJson]:
    return [
        resource
        for rest in capability.get("rest") or []
        if isinstance(rest, dict)
        for resource in rest.get("resource") or []
        if isinstance(resource, dict)
    ]
