-- bookbuild's chapter preview (preview.py), in the pandoc run that writes its LaTeX, right
-- after citeproc: citeproc has seen the citations of the chapters before the preview (the
-- Div bookbuild-earlier-citations at the start), so it numbered the preview's citations as
-- in the whole book. That Div goes, and the reference list (the Div refs) keeps only the
-- works the preview itself cites.
local EARLIER = "bookbuild-earlier-citations"

function Pandoc(doc)
  local blocks = doc.blocks:filter(function(block)
    return not (block.t == "Div" and block.identifier == EARLIER)
  end)
  local cited = {}
  blocks:walk({
    Cite = function(cite)
      for _, citation in ipairs(cite.citations) do
        cited["ref-" .. citation.id] = true
      end
    end,
  })
  doc.blocks = blocks:walk({
    Div = function(div)
      if div.identifier == "refs" then
        div.content = div.content:filter(function(entry)
          return entry.t ~= "Div" or cited[entry.identifier] == true
        end)
        return div
      end
    end,
  })
  return doc
end
