"""One pagination shape for every list: ``?limit=&offset=`` in, ``Page[T]`` out."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

__all__ = ["MAX_PAGE_SIZE", "Page", "PageParams", "PageQuery"]

MAX_PAGE_SIZE = 100
# Far beyond any list here, and well inside the databases' 64-bit OFFSET: a larger one was a 500.
MAX_OFFSET = 1_000_000_000


class PageParams(BaseModel):
    limit: int = Field(20, ge=1, le=MAX_PAGE_SIZE, description="Items per page")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Items to skip")


PageQuery = Annotated[PageParams, Query()]
"""``?limit=&offset=`` read into a ``PageParams`` as the endpoint's own query parameters:
no dependency of its own to solve per request."""


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, items: list[T], total: int, params: PageParams) -> Page[T]:
        return cls(items=items, total=total, limit=params.limit, offset=params.offset)
