; SPDX-License-Identifier: GPL-2.0-or-later
;
; Boot floppy test: the first IMAGE_SECTORS sectors of a 1.44 MB floppy
; (18 sectors a track, 2 heads). The test pads the file to 1,474,560 bytes
; at run time and boots it with --boot floppy. SeaBIOS loads sector 0 to
; 0000:7C00 with DL = 00h (drive A:), and the program reads the disk through
; INT 13h (SeaBIOS drives the 82077AA and the DMA controller for it),
; reporting on COM1:
;
;   fd: started      the BIOS booted the floppy
;   fd: track0       LBA 1-3 (C0 H0 S2-4) read in one call
;   fd: head1        LBA 20 (C0 H1 S3): the other head
;   fd: cyl1         LBA 40 (C1 H0 S5): the next cylinder
;   fd: write        LBA 2879 (C79 H1 S18, the last sector) written with
;                    "VSA-FD-WRITTEN!!", read back and compared
;   VSA-FDBOOT-OK    then power off ("Shutdown" to port 8900h)
;
; A failure prints "VSA-FDBOOT-FAIL" (after the last step that passed) and
; powers off the same way.
; Data sectors 1 .. IMAGE_SECTORS-1 each start with "VSAFD" and the
; sector's LBA as a word, then hold that LBA's low byte to the end.

IMAGE_SECTORS   equ 48
SECTOR          equ 512
BUFFER          equ 8000h
READBACK        equ 9000h
SPT             equ 18
HEADS           equ 2

%include "com1.asm"

%macro PRINT 1
        call print_inline
        db %1, 0
%endmacro

bits 16
org 7C00h
; No BIOS parameter block: SeaBIOS does not look for one, and the
; program needs the room.
start:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 7C00h
        sti
        cld
        mov [drive], dl
        mov ah, 0                       ; INT 14h: COM1 9600 8N1
        mov al, 0E3h
        xor dx, dx
        int 14h
        PRINT `fd: started\n`

        mov ax, 1                       ; LBA 1-3 in one call
        mov cx, 3
        mov bx, BUFFER
        call read
        jc .fail
        mov ax, 1
        mov cx, 3
        mov si, BUFFER
        call check
        jne .fail
        PRINT `fd: track0\n`

        mov ax, 20
        mov cx, 1
        mov bx, BUFFER
        call read
        jc .fail
        mov ax, 20
        mov cx, 1
        mov si, BUFFER
        call check
        jne .fail
        PRINT `fd: head1\n`

        mov ax, 40
        mov cx, 1
        mov bx, BUFFER
        call read
        jc .fail
        mov ax, 40
        mov cx, 1
        mov si, BUFFER
        call check
        jne .fail
        PRINT `fd: cyl1\n`

        ; The last sector: fill a buffer with the marker, write, read back.
        mov di, BUFFER
        mov si, write_marker
        mov cx, write_marker_len
        rep movsb
        mov al, 0C3h
        mov cx, SECTOR - write_marker_len
        rep stosb
        mov ax, 2879
        mov bx, BUFFER
        mov byte [op], 3                ; INT 13h AH=03h: write
        call transfer_one
        jc .fail
        mov ax, 2879
        mov cx, 1
        mov bx, READBACK
        call read
        jc .fail
        mov si, BUFFER
        mov di, READBACK
        mov cx, SECTOR
        repe cmpsb
        jne .fail
        PRINT `fd: write\n`
        PRINT `VSA-FDBOOT-OK\n`
        jmp power_off

.fail:  mov si, fail_text
        call print_si
        jmp power_off

; read: CX sectors from LBA AX to 0000:BX (all on one track), CF on error.
read:
        mov byte [op], 2
        mov [count], cl
        jmp transfer
transfer_one:
        mov byte [count], 1
; transfer: INT 13h AH=[op] of [count] sectors at LBA AX, 0000:BX; three
; tries with a disk reset between them, as boot sectors do.
transfer:
        xor dx, dx
        mov cx, SPT
        div cx                          ; AX = LBA / SPT, DX = LBA % SPT
        inc dx
        mov cl, dl                      ; sector (1-based)
        xor dx, dx
        mov si, HEADS
        div si                          ; AX = cylinder, DX = head
        mov ch, al
        mov dh, dl
        mov dl, [drive]
        mov byte [tries], 3
.again: mov ah, [op]
        mov al, [count]
        push cx
        push dx
        int 13h
        pop dx
        pop cx
        jnc .done
        dec byte [tries]
        jz .error
        push dx
        mov ah, 0                       ; reset the disk system
        int 13h
        pop dx
        jmp .again
.error: stc
.done:  ret

; check: CX sectors at SI must be data sectors AX, AX+1, ...; ZF set if so.
check:
.sector:
        cmp dword [si], "VSAF"
        jne .done
        cmp byte [si + 4], "D"
        jne .done
        cmp [si + 5], ax
        jne .done
        cmp [si + SECTOR - 1], al
        jne .done
        add si, SECTOR
        inc ax
        loop .sector
        cmp ax, ax                      ; ZF = 1
.done:  ret

com1_print_routines

power_off_routine

drive:          db 0
op:             db 0
count:          db 0
tries:          db 0
write_marker:   db "VSA-FD-WRITTEN!!"
write_marker_len equ $ - write_marker
fail_text:      db `VSA-FDBOOT-FAIL\n`, 0

        times 510 - ($ - $$) db 0
        dw 0AA55h

; ---- data sectors 1 .. IMAGE_SECTORS-1 -------------------------------------
%assign lba 1
%rep IMAGE_SECTORS - 1
        db "VSAFD"
        dw lba
        times SECTOR - 7 db (lba & 0FFh)
%assign lba lba + 1
%endrep
