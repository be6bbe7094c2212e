"""One pagination shape for every list: ``?limit=&offset=`` in, ``Page[T]`` out."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

__all__ = ["MAX_PAGE_SIZE", "Page", "PageParams", "PageQuery"]

MAX_PAGE_SIZE = 100
# Far beyond any list here, and well inside the databases' 64-bit OFFSET: a larger one was a 500.
MAX_OFFSET = 1_000_000_000


class PageParams(BaseModel):
    limit: int = 20
    offset: int = 0


async def _page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page")] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


PageQuery = Annotated[PageParams, Depends(_page_params)]


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, items: list[T], total: int, params: PageParams) -> Page[T]:
        return cls(items=items, total=total, limit=params.limit, offset=params.offset)
